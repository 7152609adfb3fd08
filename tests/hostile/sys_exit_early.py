# expect: no_model
import sys
print("all done, full marks")
sys.exit(0)
