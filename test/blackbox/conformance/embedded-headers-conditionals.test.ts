// The headers and conditionals conformance suite against the embedded backend (files, SQLite, local key vault).
import { describeHeadersConditionalsSuite } from './headers-conditionals-suite';
import { startEmbedded } from '../../support/embedded-target';

describeHeadersConditionalsSuite('embedded', () => startEmbedded());
