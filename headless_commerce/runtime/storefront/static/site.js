// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Type-ahead: fill the search box's datalist from /search/suggest.
  var input = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (input && list && window.fetch) {
    var timer = null, last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) { return; }
        last = q;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {suggestions: []}; })
          .then(function (data) {
            list.replaceChildren.apply(list, (data.suggestions || []).map(function (s) {
              var option = document.createElement("option");
              option.value = s.text;
              return option;
            }));
          })
          .catch(function () {});
      }, 150);
    });
  }
  // A form marked data-once submits once: a double click cannot send it twice (the server
  // also reuses the attempt's Idempotency-Key, so a second request would find the same order).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.disabled = true; b.setAttribute("aria-busy", "true");
      });
    });
  });
  // Variant choice: show the chosen option's price.
  var price = document.getElementById("price");
  document.querySelectorAll("input[name=sku][data-price]").forEach(function (radio) {
    radio.addEventListener("change", function () { if (price) { price.textContent = radio.dataset.price; } });
  });
  // Store locator: "Use my location" fills the coordinates form from the browser's geolocation
  // (rounded to about 10 m: the URL and the logs need no more) and sends it. Without JavaScript
  // or geolocation the button stays hidden and the coordinates are typed in.
  var near = document.querySelector("form[data-geolocate]");
  if (near && navigator.geolocation) {
    var locate = near.querySelector("[data-geolocate-button]");
    var status = near.querySelector("[data-geolocate-status]");
    locate.parentNode.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = "Finding your location\u2026";
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        near.elements.lat.value = position.coords.latitude.toFixed(4);
        near.elements.lon.value = position.coords.longitude.toFixed(4);
        status.textContent = "";
        near.submit();
      }, function () {
        locate.disabled = false;
        status.textContent = "Your location is not available. Enter a place or your coordinates instead.";
      }, {timeout: 10000, maximumAge: 300000});
    });
  }
  // Live availability on the product page.
  var product = document.querySelector("[data-product]");
  if (product && window.fetch) {
    fetch("/products/" + encodeURIComponent(product.dataset.product) + "/availability", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        document.querySelectorAll(".stock[data-sku]").forEach(function (el) {
          var n = data.skus[el.dataset.sku];
          if (typeof n === "number") { el.textContent = n > 0 ? n + " in stock" : "Out of stock"; }
        });
      })
      .catch(function () {});
  }
})();
