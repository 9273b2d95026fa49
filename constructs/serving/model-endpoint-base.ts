import { Duration, IResource, Resource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Namespace of the invocation metrics (Invocations, ModelLatency, errors, async backlog). */
export const INVOCATION_NAMESPACE = 'AWS/SageMaker';
/** Namespace of the per-instance metrics (CPU, memory, disk, GPU utilisation). */
export const INSTANCE_NAMESPACE = '/aws/sagemaker/Endpoints';

/** Metric options for one variant of an endpoint. */
export interface EndpointMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The variant the metric is about.
   * @default - the endpoint's first variant (`AllTraffic` for imports)
   */
  readonly variantName?: string;
}

/** A SageMaker model endpoint, created here or imported. */
export interface IModelEndpoint extends IResource {
  /**
   * The endpoint name.
   * @attribute
   */
  readonly endpointName: string;
  /**
   * The endpoint ARN.
   * @attribute
   */
  readonly endpointArn: string;
  /** The variant metrics are about when none is named. */
  readonly defaultVariantName: string;

  /**
   * Lets the grantee call `InvokeEndpoint` and `InvokeEndpointAsync` on this endpoint only (on an asynchronous
   * `ModelEndpoint`, also upload requests and read results in its bucket).
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;

  /** A metric of this endpoint's variant in `AWS/SageMaker` (dimensions EndpointName, VariantName). */
  metric(metricName: string, props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Requests sent to the variant. Default statistic: Sum over 5 minutes. */
  metricInvocations(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Requests per instance (the target-tracking metric). Default statistic: Sum over 1 minute. */
  metricInvocationsPerInstance(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Time the model container took to answer, in microseconds. Default statistic: Average over 5 minutes. */
  metricModelLatency(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** SageMaker's own overhead per request, in microseconds. Default statistic: Average over 5 minutes. */
  metricOverheadLatency(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Requests the model answered with 4xx. Default statistic: Sum over 5 minutes (Average gives the rate). */
  metricInvocation4xxErrors(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Requests the model answered with 5xx. Default statistic: Sum over 5 minutes (Average gives the rate). */
  metricInvocation5xxErrors(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** CPU utilisation summed over the instance's vCPUs (0-100% times vCPUs). Default statistic: Average. */
  metricCpuUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Memory utilisation, percent. Default statistic: Average. */
  metricMemoryUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Disk utilisation, percent. Default statistic: Average. */
  metricDiskUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** GPU utilisation summed over the instance's GPUs (0-100% times GPUs); NVIDIA GPU instances only (no data on Inferentia or Trainium). Default statistic: Average. */
  metricGpuUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** GPU memory utilisation summed over the instance's GPUs (0-100% times GPUs); NVIDIA GPU instances only. Default statistic: Average. */
  metricGpuMemoryUtilization(props?: EndpointMetricOptions): cloudwatch.Metric;
  /** Asynchronous endpoints: queued requests per instance (dimension EndpointName). Default statistic: Average over 1 minute. */
  metricBacklogSizePerInstance(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Asynchronous endpoints: 1 while requests wait and no instance runs (dimension EndpointName). Default statistic: Maximum over 1 minute. */
  metricHasBacklogWithoutCapacity(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** Grants and metrics shared by created and imported endpoints. */
export abstract class ModelEndpointBase extends Resource implements IModelEndpoint {
  public abstract readonly endpointName: string;
  public abstract readonly endpointArn: string;
  public abstract readonly defaultVariantName: string;

  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointAsync'],
      resourceArns: [this.endpointArn],
    });
  }

  public metric(metricName: string, props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric(INVOCATION_NAMESPACE, metricName, props);
  }

  public metricInvocations(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.metric('Invocations', { statistic: 'Sum', ...props });
  }

  public metricInvocationsPerInstance(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.metric('InvocationsPerInstance', { statistic: 'Sum', period: Duration.minutes(1), ...props });
  }

  public metricModelLatency(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.metric('ModelLatency', { statistic: 'Average', ...props });
  }

  public metricOverheadLatency(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.metric('OverheadLatency', { statistic: 'Average', ...props });
  }

  public metricInvocation4xxErrors(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.metric('Invocation4XXErrors', { statistic: 'Sum', ...props });
  }

  public metricInvocation5xxErrors(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.metric('Invocation5XXErrors', { statistic: 'Sum', ...props });
  }

  public metricCpuUtilization(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric(INSTANCE_NAMESPACE, 'CPUUtilization', { statistic: 'Average', ...props });
  }

  public metricMemoryUtilization(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric(INSTANCE_NAMESPACE, 'MemoryUtilization', { statistic: 'Average', ...props });
  }

  public metricDiskUtilization(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric(INSTANCE_NAMESPACE, 'DiskUtilization', { statistic: 'Average', ...props });
  }

  public metricGpuUtilization(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric(INSTANCE_NAMESPACE, 'GPUUtilization', { statistic: 'Average', ...props });
  }

  public metricGpuMemoryUtilization(props: EndpointMetricOptions = {}): cloudwatch.Metric {
    return this.variantMetric(INSTANCE_NAMESPACE, 'GPUMemoryUtilization', { statistic: 'Average', ...props });
  }

  public metricBacklogSizePerInstance(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.endpointMetric('ApproximateBacklogSizePerInstance', { statistic: 'Average', period: Duration.minutes(1), ...props });
  }

  public metricHasBacklogWithoutCapacity(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.endpointMetric('HasBacklogWithoutCapacity', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  private variantMetric(namespace: string, metricName: string, props: EndpointMetricOptions): cloudwatch.Metric {
    const { variantName, ...options } = props;
    return new cloudwatch.Metric({
      namespace,
      metricName,
      ...options,
      dimensionsMap: {
        EndpointName: this.endpointName,
        VariantName: variantName ?? this.defaultVariantName,
        ...options.dimensionsMap,
      },
    }).attachTo(this);
  }

  private endpointMetric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: INVOCATION_NAMESPACE,
      metricName,
      ...props,
      dimensionsMap: { EndpointName: this.endpointName, ...props.dimensionsMap },
    }).attachTo(this);
  }
}
