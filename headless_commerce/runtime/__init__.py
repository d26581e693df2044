"""Code that runs in AWS Lambda. Imports only the standard library, boto3 and Powertools."""
