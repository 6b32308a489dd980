// The encryption and ACL conformance suite on both backends: the embedded one (every key of its vault is trusted),
// and the AWS adapters on moto_server with a trusted-key list (the default CMK and one more), so an untrusted key exists.
import { startEmbedded } from '../../support/embedded-target';
import { awsBackendUnavailable, startAwsOnMoto } from '../../support/aws-target';
import { createKeyByAdmin, describeEncryptionAclSuite } from './encryption-acl-suite';

describeEncryptionAclSuite(
  'embedded',
  async () => {
    const target = await startEmbedded();
    return { target, trustedKey: await createKeyByAdmin(target, 'tenant-a') };
  },
  undefined,
  false,
);

describeEncryptionAclSuite(
  'aws-on-moto',
  async () => {
    const target = await startAwsOnMoto({ trustDefaultKeyOnly: true, extraTrustedKeys: 1 });
    const trustedKey = target.extraKeys[0];
    if (!trustedKey) throw new Error('no extra trusted key was made');
    // Made after the start and outside SEALSTORE_TRUSTED_KEY_IDS: a real key the store must refuse.
    const untrusted = await createKeyByAdmin(target, 'not-trusted');
    return { target, trustedKey, untrustedKeyArn: untrusted.arn };
  },
  awsBackendUnavailable,
);
