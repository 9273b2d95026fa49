import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { jsonPointerSegment } from './json-pointer';

/**
 * Leaves a workload's pod template without the label cdk8s-plus adds to it, `cdk8s.io/metadata.addr`, whose value
 * comes from the construct path. A Job's pod template cannot change, so moving or renaming the construct in the code
 * would make every later apply of it fail; on a Deployment it would restart every pod. The workload must select its
 * pods by other labels (`select: false`, then `select(...)`), or let Kubernetes select them (a Job).
 */
export function dropPathLabel(workload: kplus.Workload): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.remove(`/spec/template/metadata/labels/${jsonPointerSegment(kplus.Pod.ADDRESS_LABEL)}`));
}
