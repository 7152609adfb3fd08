# expect: no_model
# Tries to change things outside its scratch space: a neighbour's submission,
# the reports, the host's /tmp, the home folder, the grader's own files.
import glob, os
targets = ["../neighbour.py", "/tmp/grader-hostile-marker", os.path.expanduser("~/../grader-hostile-marker"),
           "/work/main/reports/index.html", "/root/grader-hostile-marker", "/etc/grader-hostile-marker"]
for pattern in ("/*/submissions/*", "/*/*/submissions/*", "/*/*/reports/*", "/*/*/grader/*.py", "/opt/*/*"):
    try:
        targets += glob.glob(pattern)[:20]
    except OSError:
        pass
for t in targets:
    try:
        with open(t, "a") as f:
            f.write("# pwned by a hostile submission\n")
    except OSError:
        pass
with open("local_file_is_fine.txt", "w") as f:
    f.write("scratch space is writable")
