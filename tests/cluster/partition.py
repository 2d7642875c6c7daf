"""Network partitions between processes on loopback, for the replication fault tests: nftables
rules in a table of the test's own (dropped on exit) that drop the packets between one member's
address and given peers (other members' addresses, or etcd's port on 127.0.0.1). Every member
of a cluster from tools/cluster.sh has a loopback address of its own, so a rule names it
exactly; the test's own client (127.0.0.1, other ports) keeps reaching everyone.
Needs root and nft (Debian nftables): available() says why not."""
import os
import shutil
import subprocess


def available():
    """None when partitions can be made here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "not root (nftables rules need CAP_NET_ADMIN)"
    if not shutil.which("nft"):
        return "nft not found (Debian package nftables)"
    return None


class Partition:
    def __init__(self, name):
        self.table = f"httpkv_{name}_{os.getpid()}"
        self.active = False

    def _nft(self, script):
        subprocess.run(["nft", "-f", "-"], input=script.encode(), check=True)

    def cut(self, ip, peer_ips=(), tcp_ports_on_127_0_0_1=()):
        """Drops every packet between `ip` and each peer address, and between `ip` and the given
        TCP ports of 127.0.0.1 (both directions)."""
        rules = []
        for peer in peer_ips:
            rules.append(f"ip saddr {ip} ip daddr {peer} drop")
            rules.append(f"ip saddr {peer} ip daddr {ip} drop")
        for port in tcp_ports_on_127_0_0_1:
            rules.append(f"ip saddr {ip} ip daddr 127.0.0.1 tcp dport {port} drop")
            rules.append(f"ip saddr 127.0.0.1 tcp sport {port} ip daddr {ip} drop")
        body = "\n".join(f"    {r}" for r in rules)
        self._nft(f"table ip {self.table} {{\n  chain out {{\n    type filter hook output "
                  f"priority 0; policy accept;\n{body}\n  }}\n}}\n")
        self.active = True

    def heal(self):
        if self.active:
            subprocess.run(["nft", "delete", "table", "ip", self.table], check=False)
            self.active = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.heal()
