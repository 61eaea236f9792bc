"""Attack 5: a symlink planted at the stats file's temporary name must not
be written through."""

import os
import time

from conftest import exchange
from wire import request


def test_planted_symlink_at_the_old_temporary_name_is_not_followed(serve, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    served = serve()
    stats = served.stats_file
    # The name the server used to write through, for this process.
    planted = stats.with_name(f".{stats.name}.{served.pid}.tmp")
    planted.symlink_to(victim)
    pending = request(served.public, b"count me")
    assert exchange(served.addr, pending.packet, timeout=2) is not None
    time.sleep(0.3)  # several rewrites
    assert victim.read_text() == "precious\n"
    assert os.path.islink(planted)
    assert served.stats().get("answered") == 1
    # Once stopped (a rewrite may be in flight until then), no temporary
    # file is left behind.
    served.stop()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp") and p != planted]
    assert leftovers == []
