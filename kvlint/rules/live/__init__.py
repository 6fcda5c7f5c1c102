"""Rules of the `live` source: judged on vault state read from Azure or from an audit snapshot."""
