"""Thin launcher kept for `python app.py`: the UI lives in `assistant/ui.py` (also `assistant ui`,
`python -m assistant`, `make run`)."""

from assistant.ui import main

if __name__ == "__main__":
    main()
