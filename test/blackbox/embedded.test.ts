// The black-box S3 suite against the embedded backend (files, SQLite, local key vault).
import { describeS3Suite } from './s3-suite';
import { startEmbedded } from '../support/embedded-target';

describeS3Suite('embedded', () => startEmbedded());
