# expect: build_error
import keras
import definitely_not_a_real_package_for_grading
