"""Run a command and print its peak RSS in KiB: ``python peak_rss.py CMD [ARGS]...``.

The kernel records a process's peak RSS across exec from the memory of the process that
forked it, so a command started straight from a large benchmark process would report that
process's size. Started from this small launcher, it reports its own.
"""

import os
import subprocess
import sys

child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
