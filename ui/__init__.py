"""Streamlit glue shared by the pages: session state, the model picker, cached resources.

Computation lives in vae_core; this package only holds state and widgets.
"""
