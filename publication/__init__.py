"""Published replies (公开): the public list and pages, withholding, and redaction of personal
contact details. Above documents (it renders the public PDF), below demo."""
