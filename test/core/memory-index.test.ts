// The in-memory index the partition-load simulation counts on passes the same contract as the real adapters.
import { describeRecordIndexContract } from '../contract/record-index.contract';
import { MemoryRecordIndex } from '../support/memory-ports';

describeRecordIndexContract('MemoryRecordIndex (RecordIndex contract)', async () => ({ index: new MemoryRecordIndex(), cleanup: async () => undefined }));
