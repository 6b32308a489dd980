// The versioning black-box suite against the embedded backend (files, SQLite, local key vault).
import { describeVersioningSuite } from './versioning-suite';
import { startEmbedded } from '../support/embedded-target';

describeVersioningSuite('embedded', () => startEmbedded());
