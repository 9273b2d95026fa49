/**
 * The largest user or group id the Kubernetes API server accepts in a security context (apimachinery's
 * `IsValidUserID`: `maxUserID = math.MaxInt32`).
 */
export const MAX_USER_ID = 2147483647;
