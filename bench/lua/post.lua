-- POST to the URL's path with an empty body (a vote: POST /api/memes/{id}/vote).
wrk.method = "POST"
wrk.body = ""
