"""The workshop experience: scripts as data (script), the live room (room) and the report (report).

Pure: no Streamlit and no MPyC imports in this package.
"""
