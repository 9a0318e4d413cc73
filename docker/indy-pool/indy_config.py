# /etc/indy/indy_config.py of the acapy-harness Indy pool image: where the
# four nodes keep their ledgers, keys and logs (all under /var/lib/indy and
# /var/log/indy, owned by the user `indy`). generate_indy_pool_transactions
# rewrites the NETWORK_NAME line itself, so this file must stay writable by
# that user.
import logging

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

NETWORK_NAME = 'sandbox'
