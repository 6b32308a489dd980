// The public face: an API Gateway REST API proxying every path to the API function, streaming responses.
import { type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface ObjectApiProps {
  readonly handler: lambda.IFunction;
  /** @default 'prod' */
  readonly stageName?: string;
  /** Steady-state requests per second across the stage. */
  readonly throttlingRateLimit: number;
  /** Burst bucket size. */
  readonly throttlingBurstLimit: number;
  /** How long API Gateway waits for the function; with STREAM up to 15 minutes. */
  readonly integrationTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /**
   * Set the account-wide API Gateway CloudWatch role (needed once per account and region for access and
   * execution logs). Turn off when the account already has one managed elsewhere.
   * @default true
   */
  readonly manageAccountLoggingRole?: boolean;
  /** A regional WAFv2 web ACL to associate with the stage. @default none */
  readonly webAclArn?: string;
}

export class ObjectApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ObjectApiProps) {
    super(scope, id);
    const manageRole = props.manageAccountLoggingRole ?? true;
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'sealstore S3-compatible API (SigV4 verified by the function)',
      // Regional: response streams idle out after 5 minutes here, 30 seconds on edge-optimized endpoints.
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // Object bodies are arbitrary bytes: pass every content type through as binary (base64 to Lambda).
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: manageRole,
      ...(manageRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
        // Execution logs at ERROR only, and never data tracing: request and response bodies are plaintext
        // objects and SigV4 headers, which must not land in CloudWatch.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
      // Authentication is the service's own SigV4 check, as S3 clients sign requests (and the function
      // authorises per bucket and action). API Gateway's IAM auth would demand AWS IAM principals and a
      // signature over the execute-api service, which S3 clients cannot produce; so method auth is NONE.
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.NONE },
      defaultIntegration: new apigateway.LambdaIntegration(props.handler, {
        proxy: true,
        // Stream GET bodies with constant memory, past the 10 MB buffered limit (streamifyResponse handler).
        responseTransferMode: apigateway.ResponseTransferMode.STREAM,
        timeout: props.integrationTimeout,
        allowTestInvoke: false,
      }),
    });
    // "/" answers ListBuckets; "/{proxy+}" every bucket and object path.
    this.api.root.addMethod('ANY');
    this.api.root.addProxy({ anyMethod: true });

    if (props.webAclArn !== undefined) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: props.webAclArn });
    }

    const acknowledgments = [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          "By design: callers authenticate with AWS SigV4 as S3 clients sign, verified by the API function against the store's own credentials; " +
          'API Gateway authorizers cannot verify an S3 signature.',
      },
      { id: 'AwsSolutions-COG4', reason: 'No Cognito: S3 clients sign with access keys (SigV4), which the API function verifies.' },
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'The S3 protocol layer in the function validates every request (headers, query, XML, checksums) and answers with S3 error codes; ' +
          'an API Gateway request validator cannot express S3 semantics and would answer in a format S3 clients do not parse.',
      },
    ];
    if (props.webAclArn === undefined) {
      acknowledgments.push({
        id: 'AwsSolutions-APIG3',
        reason: "WAF is optional (prop webAclArn / context sealstore:webAclArn): its per-request cost and rules are the deployer's choice.",
      });
    }
    if (manageRole) {
      acknowledgments.push({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-level API Gateway logging role uses AmazonAPIGatewayPushToCloudWatchLogs, the policy AWS documents for exactly this role.',
      });
    }
    Validations.of(this.api).acknowledge(...acknowledgments);
  }
}
