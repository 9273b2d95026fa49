import { IConstruct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { AcceleratorVendor } from '../compute/gpu-instance-type';

/** Throws, naming `vendor`, unless it is one of the AcceleratorVendor values (a JavaScript caller may pass anything). */
export function checkAcceleratorVendor(scope: IConstruct | undefined, vendor: unknown): asserts vendor is AcceleratorVendor {
  requireProp(scope, 'vendor', vendor, 'string', 'an AcceleratorVendor (AcceleratorVendor.NVIDIA or AcceleratorVendor.AWS_NEURON)');
  if (!(Object.values(AcceleratorVendor) as unknown[]).includes(vendor)) {
    throw new PlatformError(scope, 'vendor', vendor, `must be one of ${Object.values(AcceleratorVendor).join(', ')}`, 'use AcceleratorVendor.NVIDIA or AcceleratorVendor.AWS_NEURON');
  }
}
