"""hcc_utils: analysis library of the re-runnable Chon et al. 2024 study."""
__version__ = "0.1.0"
