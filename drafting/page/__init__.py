"""What the Streamlit page keeps besides Streamlit itself: remembered state, the editable
outline, the HTML views, background drafting jobs."""
