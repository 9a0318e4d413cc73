# /etc/indy/indy_config.py of the acapy-harness Indy pool image: where the
# four nodes keep their ledgers, keys and logs (all under /var/lib/indy and
# /var/log/indy, owned by the user `indy`). generate_indy_pool_transactions
# rewrites the NETWORK_NAME line itself, so this file must stay writable by
# that user.
import logging
import os

LEDGER_DIR = '/var/lib/indy'
KEYS_DIR = LEDGER_DIR
GENESIS_DIR = LEDGER_DIR
NODE_INFO_DIR = LEDGER_DIR
BACKUP_DIR = '/var/lib/indy/backup'
PLUGINS_DIR = '/var/lib/indy/plugins'
LOG_DIR = '/var/log/indy'

# The nodes log to LOG_DIR/NETWORK_NAME/NodeN.log; the container's own
# output is the supervisor's (pool.py).
logLevel = logging.INFO
enableStdOutLogging = False

# A write waits until Max3PCBatchWait seconds have passed since the last
# batch (plenum's default is 3): with 3, every write that follows another
# within 3 s took 3 s (an ENDORSER registration and its public DID, a
# schema, a credential definition with its revocation registries), so a
# scenario spent most of its time waiting. A test pool batches at once.
Max3PCBatchWait = float(os.environ.get('INDY_POOL_BATCH_WAIT', '0.1'))

NETWORK_NAME = 'sandbox'
