"""Names and handlers of the Personalization functions that are not API routes or event
consumers: pure data, so CDK imports it without boto3 or Powertools."""

_PKG = "headless_commerce.runtime.recommendations"

# The recommenders custom resource's provider, also the scheduled reconciler.
RESOURCES_FUNCTION = "personalize_resources"
RESOURCES_HANDLER = f"{_PKG}.resources.handler"
# The scheduled export of the catalog to the items dataset.
CATALOG_EXPORT_FUNCTION = "personalize_catalog_export"
CATALOG_EXPORT_HANDLER = f"{_PKG}.catalog_export.handler"
