// The multipart, copy and presign suite against the embedded backend (files, SQLite, local key vault).
import { describeMultipartSuite } from './multipart-suite';
import { startEmbedded } from '../support/embedded-target';

// With the deployed stack's limits (1 MiB parts allowed): the suite moves small parts, as through API Gateway.
describeMultipartSuite('embedded', () => startEmbedded({ lambdaLimits: true }));
