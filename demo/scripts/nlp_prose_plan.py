I'll treat this as a binary text classification problem. First, load train.csv and
test.csv from ./data and clean each tweet: lowercase it, strip URLs, user mentions
and punctuation, and keep hashtags as words. Then build TF-IDF features over word
unigrams and bigrams, fit a logistic regression with class weights, and check the F1
score on a stratified 20% hold-out. Finally, refit on all the training data and write
the predicted target for every test id to submission.csv.
