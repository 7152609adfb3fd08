# expect: no_model
# Starts a grandchild in its own session that outlives this process, then exits.
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # grader-hostile-sleeper-marker"],
                 start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
