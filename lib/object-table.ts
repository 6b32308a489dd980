// The DynamoDB table behind the object index and key state: one table, pk/sk, one overloaded GSI.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE } from '../lambdas/core/deployment-names';

/** The GSI the AWS adapters query (e.g. every object wrapped under a given CMK). */
export const GSI1 = TABLE.gsi1.indexName;

export interface ObjectTableProps {
  /** @default a name CloudFormation generates */
  readonly tableName?: string;
}

export class ObjectTable extends Construct {
  readonly table: dynamodb.Table;
  /** ARN of GSI1, for Query grants without a wildcard. */
  readonly gsi1Arn: string;

  constructor(scope: Construct, id: string, props: ObjectTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      ...(props.tableName !== undefined && { tableName: props.tableName }),
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      // Traffic follows S3 clients, bursty and unknown in advance.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // The index is the only record of which blob and wrapped key make each object: it must be recoverable.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // The AWS-owned key, not the store CMK: with the CMK every index read would need kms:Decrypt, which the
      // rotation function must never hold. The index holds names and metadata, never object bytes.
      encryption: dynamodb.TableEncryption.DEFAULT,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: GSI1,
      partitionKey: { name: TABLE.gsi1.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.gsi1.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.gsi1Arn = `${this.table.tableArn}/index/${GSI1}`;
  }
}
