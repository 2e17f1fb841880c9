"""CSS used in facilitator mode: larger text for the projector (a plain string; no Streamlit import)."""

FACILITATOR_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.15rem; }
h1 { font-size: 2.8rem !important; }
.impact-card { font-size: 1.05rem; }
</style>
"""
