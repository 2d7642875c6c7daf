#!/usr/bin/env bash
# Several httpkv nodes behind HAProxy: start|kill|restart|add|remove|stop DIR (see README
# "Several nodes", tools/cluster/cluster.py).
exec python3 "$(dirname "${BASH_SOURCE[0]}")/cluster/cluster.py" "$@"
