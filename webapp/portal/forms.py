"""Portal forms (Flask-WTF, so every POST carries a CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class EmailForm(FlaskForm):
    email = EmailField("Your e-mail address",
                       validators=[DataRequired("Enter your e-mail address."), Length(max=320)])


class CodeForm(FlaskForm):
    code = StringField("Login code", validators=[DataRequired("Enter the code from the e-mail."), Length(max=20)])


class ResendForm(FlaskForm):
    resend = SubmitField("Resend code")


class PlainForm(FlaskForm):
    """A POST with nothing but its CSRF token (logout, open the staff view)."""
