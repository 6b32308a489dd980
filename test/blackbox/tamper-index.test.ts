// Tampering with the index on the embedded backend (SQLite rows); the suite and its threat model: tamper-index-suite.ts.
import { embeddedHarness, tamperSuite } from './tamper-index-suite';

tamperSuite('embedded backend (SQLite rows)', embeddedHarness);
