"use strict";
// A catalog pick fills the name beside it: <select data-catalog-name-field="account_name">.
// Form media may load this before django.jQuery exists: bind once the page is parsed.
document.addEventListener("DOMContentLoaded", function () {
  const $ = window.django && window.django.jQuery;
  if (!$) {
    return;
  }
  $(document).on("change", "select[data-catalog-name-field]", function () {
    const field = this.dataset.catalogNameField;
    const option = this.options[this.selectedIndex];
    const target = field && document.getElementById("id_" + field);
    if (target && option && option.dataset.name) {
      target.value = option.dataset.name;
    }
  });
});
