// A lead page button that changes data (data-crm-post, e.g. "Take") is a link
// in unfold's toolbar; it is sent as a POST with the page's CSRF token, so one
// click does it. Without this script the link opens a page that asks first.
document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-crm-post]");
    if (!link) {
        return;
    }
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token) {
        return;
    }
    event.preventDefault();
    const form = document.createElement("form");
    form.method = "post";
    form.action = link.href;
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "csrfmiddlewaretoken";
    input.value = token.value;
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
});
