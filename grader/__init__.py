"""grader: an autograder for GoogLeNet (Inception v1) assignments in Keras."""

__version__ = "0.1.0"
