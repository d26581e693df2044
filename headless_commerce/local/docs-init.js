// Starts Swagger UI on /docs (a file, not inline script, so the page's policy refuses inline
// script). BaseLayout has no top bar: the page shows this API's document and no other.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    domNode: root,
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
    queryConfigEnabled: false
  });
});
