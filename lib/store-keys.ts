// The store's CMK — created here (AWS-generated symmetric key material, rotating, retained) or brought by the
// owner — and the key-policy and IAM statements that let each function use it for exactly what it calls.
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CONTEXT_KINDS, contextConditions } from './encryption-context';

/**
 * What key administrators may do: manage the key's lifecycle, policy, aliases and tags — and nothing that
 * touches data (no Encrypt/Decrypt/GenerateDataKey/ReEncrypt) and no kms:CreateGrant (a grant could hand
 * them exactly those). kms:PutKeyPolicy stays: KMS refuses a key policy that would lock its creator out,
 * so administrators can always rewrite the policy; CloudTrail records it when they do.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:ListKeyPolicies',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:ListKeyRotations',
  'kms:RotateKeyOnDemand',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:UpdateKeyDescription',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ListResourceTags',
  'kms:ListGrants',
  'kms:RevokeGrant',
];

/** What one function may do with the store's key(s). */
export interface KeyUse {
  /** Calls that carry an encryption context; admitted only with a sealstore context (see encryption-context.ts). */
  readonly contextActions: readonly string[];
  /**
   * Further calls admitted only with the index key's context: the functions that read index rows but must never
   * open a data key (rotation, housekeeping) unwrap the index key, which authenticates every row, and nothing else.
   * @default none
   */
  readonly indexKeyActions?: readonly string[];
  /** Calls on the key itself that carry no context (DescribeKey, lifecycle). */
  readonly keyActions: readonly string[];
}

export interface StoreKeysProps {
  /** Alias of the created key. Ignored with `existingKeyArn`. */
  readonly alias: string;
  /** Automatic rotation period of the created key (KMS accepts 90–2560 days). */
  readonly rotationPeriod: Duration;
  /** Waiting period before a scheduled deletion of the created key completes (7–30 days). */
  readonly pendingWindow: Duration;
  /**
   * Key administrators. The default, the account root, delegates the administrative actions (only those)
   * to IAM, so CloudFormation's execution role can keep managing the key. A custom list must include the
   * principal that deploys the stack, or KMS rejects the policy (lockout safety check).
   * @default [the account root]
   */
  readonly admins?: readonly iam.IPrincipal[];
  /**
   * Use an existing CMK (imported key material, or a CloudHSM custom key store key) instead of creating one.
   * Its key policy is the owner's: the stack grants usage through IAM and publishes, in the output
   * `KeyPolicyStatementsForOwner`, the statements the owner must add. docs/DEPLOY.md explains.
   */
  readonly existingKeyArn?: string;
  /** Other CMKs whose data keys the store must still unwrap or rewrap (e.g. a retiring key). */
  readonly additionalTrustedKeyArns?: readonly string[];
}

export class StoreKeys extends Construct {
  /** The CMK new objects are sealed under. */
  readonly key: kms.IKey;
  /** True when this stack created (and owns the policy of) `key`. */
  readonly created: boolean;
  /** `key` first, then every additional trusted key. */
  readonly trustedKeyArns: readonly string[];
  /** The trusted keys besides `key` (additionalTrustedKeyArns): their key policies are their owners'. */
  readonly additionalTrustedKeyArns: readonly string[];
  /**
   * With an existing key or additional trusted keys: the statements the owner of each such key adds to its key
   * policy (principals filled in). Empty when every trusted key is the one this stack created.
   */
  readonly ownerStatements: iam.PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: StoreKeysProps) {
    super(scope, id);
    validateKeyProps(props);

    if (props.existingKeyArn !== undefined) {
      this.key = kms.Key.fromKeyArn(this, 'ExistingKey', props.existingKeyArn);
      this.created = false;
    } else {
      const admins = props.admins ?? [new iam.AccountRootPrincipal()];
      const key = new kms.Key(this, 'Key', {
        description: `sealstore CMK (${Stack.of(this).stackName}): wraps the per-object data keys`,
        keySpec: kms.KeySpec.SYMMETRIC_DEFAULT,
        keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT,
        enableKeyRotation: true,
        rotationPeriod: props.rotationPeriod,
        pendingWindow: props.pendingWindow,
        // Losing the key loses every object: never delete it with the stack.
        removalPolicy: RemovalPolicy.RETAIN,
        // A policy of our own replaces CDK's default `kms:*` for the account root, which would let any IAM
        // policy in the account use the key and erase the admin/user separation.
        policy: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'KeyAdministration',
              principals: [...admins],
              actions: KEY_ADMIN_ACTIONS,
              resources: ['*'],
            }),
          ],
        }),
        alias: props.alias,
      });
      // AWS-generated key material (not imported, not a custom key store); KMS's default, stated for the reader.
      (key.node.defaultChild as kms.CfnKey).origin = 'AWS_KMS';
      this.key = key;
      this.created = true;
    }
    this.additionalTrustedKeyArns = [...(props.additionalTrustedKeyArns ?? [])];
    this.trustedKeyArns = [this.key.keyArn, ...this.additionalTrustedKeyArns];
  }

  /**
   * Lets `role` make the calls in `use` on every trusted key: in the role's IAM policy and, for a key this
   * stack created, in the key policy too (it does not delegate data use to IAM). For an existing key the
   * key-policy statements are collected in `ownerStatements` instead.
   */
  grantUse(role: iam.IRole, name: string, use: KeyUse): void {
    const statements: Array<{ sid: string; actions: string[]; conditions?: Record<string, Record<string, unknown>> }> = [];
    for (const kind of CONTEXT_KINDS) {
      const actions = [...use.contextActions, ...(kind.sid === 'IndexKey' ? use.indexKeyActions ?? [] : [])];
      if (actions.length > 0) statements.push({ sid: kind.sid, actions, conditions: contextConditions(kind.keys) });
    }
    if (use.keyActions.length > 0) statements.push({ sid: 'KeyLifecycle', actions: [...use.keyActions] });

    for (const s of statements) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `Kms${s.sid}`,
          actions: s.actions,
          resources: [...this.trustedKeyArns],
          ...(s.conditions && { conditions: s.conditions }),
        }),
      );
      const keyPolicyStatement = new iam.PolicyStatement({
        sid: `${name}${s.sid}`,
        principals: [role],
        actions: s.actions,
        resources: ['*'],
        ...(s.conditions && { conditions: s.conditions }),
      });
      if (this.created) this.key.addToResourcePolicy(keyPolicyStatement);
      // A brought key (the existing one, or an additional trusted one) admits the roles only once its owner adds these.
      if (!this.created || this.additionalTrustedKeyArns.length > 0) this.ownerStatements.push(keyPolicyStatement);
    }
  }
}

function validateKeyProps(props: StoreKeysProps): void {
  const pending = props.pendingWindow.toDays();
  if (pending < 7 || pending > 30) {
    throw new Error(`sealstore: key pending window must be 7–30 days (got ${pending}); KMS enforces the range`);
  }
  const rotation = props.rotationPeriod.toDays();
  if (rotation < 90 || rotation > 2560) {
    throw new Error(`sealstore: key rotation period must be 90–2560 days (got ${rotation}); KMS enforces the range`);
  }
  if (!/^alias\/[a-zA-Z0-9:/_-]+$/.test(props.alias) || props.alias.startsWith('alias/aws/')) {
    throw new Error(`sealstore: invalid key alias '${props.alias}' (alias/<name>, not alias/aws/…)`);
  }
  for (const arn of [props.existingKeyArn, ...(props.additionalTrustedKeyArns ?? [])]) {
    if (arn !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-zA-Z-]+$/.test(arn)) {
      throw new Error(`sealstore: '${arn}' is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
    }
  }
}
