// ConnectorKit: the SDK for connector authors.
