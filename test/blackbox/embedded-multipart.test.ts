// The multipart, copy and presign suite against the embedded backend (files, SQLite, local key vault).
import { describeMultipartSuite } from './multipart-suite';
import { startEmbedded } from '../support/embedded-target';

describeMultipartSuite('embedded', () => startEmbedded());
