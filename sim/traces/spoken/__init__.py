"""Values in speech as a listener hears them: numbers, times, dates and amounts in words.

`index.Heard` reads a text once into an index of what it says; `values.target` turns an
argument value into what to look for in it. The rules are in docs/trace-format.md.
"""
