// The refused-headers conformance suite against the embedded backend (files, SQLite, local key vault).
import { describeRefusedHeadersSuite } from './refused-headers-suite';
import { startEmbedded } from '../../support/embedded-target';

describeRefusedHeadersSuite('embedded', () => startEmbedded());
