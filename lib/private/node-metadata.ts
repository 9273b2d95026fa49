/**
 * The instance metadata options of every node group's launch template: IMDSv2 only, with a hop limit of 1, so the
 * metadata (and the node role's credentials, which pull from every ECR repository of the account and manage network
 * interfaces account-wide) stays with the node itself and host-network pods such as aws-node. Other pods get AWS
 * access from IRSA or EKS Pod Identity.
 */
export const NODE_METADATA_OPTIONS = { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 } as const;
