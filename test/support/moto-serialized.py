# moto_server with DynamoDB made linearizable. moto's TransactWriteItems snapshots every table it touches and,
# when a condition fails, puts the snapshot back: under concurrent requests that silently undoes other writers'
# committed items (a lost pending ledger entry, a reverted object row) - something DynamoDB never does. One lock
# around every DynamoDB backend call gives each request the all-or-nothing, one-at-a-time view DynamoDB has.
# Everything else (S3, KMS, Secrets Manager) stays concurrent. Run as: python moto-serialized.py -H host -p port
import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_lock = threading.RLock()


def _serialized(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        with _lock:
            return method(self, *args, **kwargs)

    return call


for _name in ("put_item", "get_item", "query", "scan", "update_item", "delete_item", "transact_write_items",
              "batch_get_item", "batch_write_item", "transact_get_items", "create_table", "delete_table"):
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))

main(sys.argv[1:])
