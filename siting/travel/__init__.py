"""Travel times: labelled matrices of minutes between places."""
