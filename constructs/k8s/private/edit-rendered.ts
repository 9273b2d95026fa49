import { ApiObject } from 'cdk8s';

/**
 * Changes the JSON that `apiObject` renders. cdk8s-plus-28's typed objects (`KubeDeployment`, ...) pass what they
 * render, JSON patches included, through mappers that keep only the fields of the Kubernetes 1.28 schema, so a
 * field that Kubernetes added later (the preStop sleep action, 1.29) can only be added to the rendered JSON.
 */
export function editRendered<T>(apiObject: ApiObject, edit: (json: T) => void): void {
  const render = apiObject.toJson.bind(apiObject);
  apiObject.toJson = () => {
    const json = render();
    edit(json as T);
    return json;
  };
}

/** `value` with its keys in the order cdk8s writes them (sorted), for an object added by `editRendered`. */
export function sortedKeys<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}
