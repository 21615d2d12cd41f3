"use strict";
// A catalog pick fills the name beside it: <select data-catalog-name-field="account_name">.
// The options come from the server as the person types (Select2's ajax, configured by the
// data-ajax--url attribute); the result carries the item's name. The stored value is rendered
// with the page as an <option data-name>.
// Form media may load this before django.jQuery exists: bind once the page is parsed.
document.addEventListener("DOMContentLoaded", function () {
  const $ = window.django && window.django.jQuery;
  if (!$) {
    return;
  }
  function fill(select, name) {
    const field = select.dataset.catalogNameField;
    const target = field && document.getElementById("id_" + field);
    if (target && name) {
      target.value = name;
    }
  }
  $(document).on("select2:select", "select[data-catalog-name-field]", function (event) {
    const data = event.params && event.params.data;
    fill(this, data && data.name);
  });
  $(document).on("change", "select[data-catalog-name-field]", function () {
    const option = this.options[this.selectedIndex];
    fill(this, option && option.dataset.name);
  });
});
