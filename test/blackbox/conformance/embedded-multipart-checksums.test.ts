// The checksum and multipart conformance suite against the embedded backend (files, SQLite, local key vault).
import { describeMultipartChecksumSuite } from './multipart-checksums-suite';
import { startEmbedded } from '../../support/embedded-target';

// With the deployed stack's limits (1 MiB parts allowed): the suite moves small parts, as through API Gateway.
describeMultipartChecksumSuite('embedded', () => startEmbedded({ lambdaLimits: true }));
