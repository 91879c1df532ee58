"""The one exception every data reader raises."""


class DataError(ValueError):
    """A data file or data set that cannot be used.

    The message is one line that names the file (or data set) and says exactly what is wrong with it, so a
    user can fix the file without reading our code. A ValueError, so callers that already catch bad values
    catch this too.
    """
