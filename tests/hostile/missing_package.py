# expect: no_model (the missing package gets a stand-in and an import_stubbed note; nothing builds a model)
import keras
import definitely_not_a_real_package_for_grading
