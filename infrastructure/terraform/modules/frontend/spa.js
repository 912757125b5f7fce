// Viewer-request function of the S3 (default) behaviour only: an SPA route such as /chat/123
// (a last path segment without a dot) is served /index.html. /api/* never reaches this code,
// so API 403/404 responses stay what they are (FR-003).
function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
