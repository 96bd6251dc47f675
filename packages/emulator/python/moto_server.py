"""moto's server, as orgmfa's emulator runs it: `python3 moto_server.py -H 127.0.0.1 -p <port>`.

The entry only:
- a watchdog: the server exits when the process that started it is gone (re-parented), so an
  emulator can never outlive `orgmfa demo` or a test run, however they end (even SIGKILL) — from its
  first instant: the watchdog starts before moto is imported, knows its parent from
  ORGMFA_PARENT_PID, and on Linux asks the kernel for SIGKILL when the parent dies
  (PR_SET_PDEATHSIG);
- every patch of moto (the package orgmfa_moto beside this file: its docstring lists them, what
  moto does, what AWS does instead and the source), and the emulator's control endpoints
  (orgmfa_moto/control.py);
- then moto's own server (moto.server.main) with the arguments given.
"""

import os as _os
import threading as _threading
import time as _time


def _exit_with_parent():
    """The server exits when the process that started it is gone, from its very first instant.

    It starts before moto is imported (which takes a second or two), so a parent killed meanwhile
    leaves no orphan. The parent's PID comes from ORGMFA_PARENT_PID (set by the emulator's Node side):
    a parent that died before this line ran is caught too, where comparing with getppid() alone would
    see the reaper's PID as the parent. On Linux the kernel also sends SIGKILL when the parent dies.
    """
    expected = _os.environ.get("ORGMFA_PARENT_PID")
    parent = int(expected) if expected and expected.isdigit() else _os.getppid()
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the polling below is enough
        pass
    while True:
        if _os.getppid() != parent:
            _os._exit(0)
        _time.sleep(0.2)


if __name__ == "__main__":
    _threading.Thread(target=_exit_with_parent, daemon=True).start()

import sys  # noqa: E402

# The patches are the package beside this file, wherever it is (the checkout, or the CLI's installed
# tarball), even where Python does not put the script's directory on sys.path (PYTHONSAFEPATH, -P).
_HERE = _os.path.dirname(_os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import orgmfa_moto  # noqa: E402
from moto.server import main  # noqa: E402
from orgmfa_moto import control  # noqa: E402

orgmfa_moto.apply()
control.register()

if __name__ == "__main__":
    main(sys.argv[1:])
