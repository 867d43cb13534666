"""A small head-and-shoulders photograph for the synthetic camera source.

The synthetic source must show a face that the real detectors find, or the demo would exercise
nothing; a drawn cartoon face is not reliably found by Haar cascades. The picture is a 120x140 JPEG
crop of scikit-image's ``data.astronaut()`` (Eileen Collins, a NASA photograph in the public
domain), embedded here so the kiosk needs neither scikit-image nor a data file at run time.
"""

from __future__ import annotations

import base64

import cv2
import numpy as np

FACE_JPEG_B64 = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEY"
    "Gh0dHx8fExciJCIeJBweHx7/2wBDAQUFBQcGBw4ICA4eFBEUHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4e"
    "Hh4eHh4eHh4eHh4eHh7/wAARCACMAHgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6"
    "Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXG"
    "x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREA"
    "AgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPE"
    "xcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD2MRnbgVItucZqVWXNTKy1zo3KwJQYxS7i"
    "Rn0qSZkA3MQo7k1gar4hs7XdHEfMlA+4Dyf8PxpuSW4JXJvEWuafoOmSX+pTiKGPgkjOT6cV5hN471TxTIYtKki0+BWxguCz"
    "D3PX8BXDftJa9rd5pltbk7LeaTPlJ22gYJPeuY+Fly09oiataJtVyscxUqcjBIyB1wQfcVw4irLlvFm9KKvqepvYxwuP7a1S"
    "e9jHSHDLGP0xXfeEptMS3SO0hhtgOiIgJ/OuV8Oadp9vAHe2dEf5hJExbd+vH412GjSxww7rOWWJwPlEjn+in+defzNu7N2k"
    "kaepy2T7wYonP8XDEj8sV5t4gtPIuhOAIz1jaJvmT3FdN4k8V3dnbFbu1TVrhhhIE8yIk/XP9K4WXxLPeXhi/s82ExGQkyF8"
    "H6k80+ZiSNrRPiRq2mSiG+nOoxHoH4kAHvXoOheKtI1pY/s9yI5X6QyfK2f614xcppsy+c7uGwSxK53kdgOR/Ks7w9cxybdQ"
    "sJYljVsSRsCZImHXkHrXTSxs4uz1REqaZ9K7TSHjtXC+A/Hf9p6gulagiJIw/dSiQHcfQj1r0Bo+OK9OFSNSN0c8k4uzI0JO"
    "KKVUIaimK5QEhp4n2LkniqKvXL/FDWJNO0OKCFykt5L5YI6gAZP+H41m5cquNK7sUvHXjkJ5lnp7Mzc5kUcD6Vwul6/LHcr5"
    "amS4lPt+ZJrP14OYFSFSExjC8kkjvVTw7Z/ZpyzttK4d3K87ccCvNnXlKWp0RgktDp/Hfhe58ReRLJJvUIQ2MYBPrz680aLH"
    "Y6VZro1xBFNbqNshVRuI6q+D3A4I9hU8EU2oBjbX37sEbQO/eue1zRdRsriW+t5y86kZGfvc/wD66yqTuaxgdXaL4fju1FtN"
    "LgkERrwP1P8AKuliW8jAWx1N1RlI8tixVPfceT+dea2F/cFY5H+0QCTr5WGGfof5V2WjedDbiWZ98DNtDyRgY+vp+QrLToNo"
    "nuB4jiuTL/oc0ZGPN3szj6nj9KrF7SWZpLwqMHBEarz+J5H4VqXkTBVkjt4541PLjJ/9m/nV4WHh25tnS4iFveKpO9S2GH0z"
    "09R1HvTSE3oec+NYVNtJe2QZlGMiMkLjAGMnqfpXH6VrNnp9ybhoGleQEOqqpL8cZPUYq/8AEdX0mdkkeRoZAfKUtuDfj/nN"
    "eTfZxLeK7SOYpTt2defr1qoQ5nq7EtnpOoXV3Y6hDeREwTAie1Mf3gfQ/Svqf4f65F4p8IWWsRgCSRNsyA/dkHBFfIPiCddR"
    "0q0ihlVHt0wBnJXaOMnp6ivZf2QdRupNN1jTpp1kiQxyxKeo3FgT+g/OuzBS5ZW6Mxqq6Pb5IypzRV7yw3UUV6VzA42P0zXn"
    "Px3Ey2WlXMS7vLmkUj6gc/8AjtekspB9q4n4xXENt4YV5+CJQUJGea5sQv3TNafxI888L3nmQiK6AmmkbPJ6CqPxOuk0si0s"
    "CJZpIixUd/aqemXMMBDQONrfM3GMe1cp4nv573VHkDbuNm/GB7/4V48W5aHXax694A0a8v8AwoLq2fMsoILejD+lV5Y72K6a"
    "3u45UY88jv8A5xXo3wpFvpPhTTYrgMHMCsUVWZiTzjA5rspBp1w4utQ0q6t48YV3tmII98dPxrRU29jaLstTwR7O9iaREtXM"
    "eTgr09avW2oTW0W2BHMoGDvXGfYnpivfdB0jw1eQOLd7e5jBPAPKH09RT5fBuitMwaFdoXir9hLcTcdj5yk8VHT75BPG0av/"
    "AKxVPBXufwqrq/ieG2BYTbjGxBY9x0H9Pzr3DxH8MvD16Q6w7GU5znj3/SvLvH3wdt3gZ9O1VIWAO0SEEEY6daj2c09RSjF7"
    "HkHiPxFNqumTxSSealvJhcn5lB/yfy96oaTqt3psAmjsoZZJVwsoiJI7YPHvVPWfCfiHR7yS3EDXCSDa0kZBU981k2OsXYkF"
    "oblIZlbGcYJNaxpaaamEtDsobeKaWZbldpKhnQKVAz1Fdt+z/rK2nxXtbaBlitru3aIjd98Bcr+orza1vGa4P71pZXXDF2Jz"
    "W14Dsbi08f6HfWkZCtqEaBN3qwyeO2M1NH3ZoiZ9rrKeTRUUh2qQaK9pnKkc+VzXB/Hezkk+Ht3cRQGWW2ZZAoGeM4J/AHP4"
    "V6AooubWG8tZLW4jEkUqlXU9CDUzhzRcSk7O58Pm4v7aRfNkZVPPXit7Qol1vVLezhXCu6RA+uTyf0P6Vt/Gb4Z6p4b1AXFh"
    "5txpTt+5JxlO+0/r+VVPg1p8h8U2jMrbYnLH/vk4P515M6fI7Pc7YvnV0fScd7NoGjteW9m11IseYol4LY6D8q4zxX8VvH+k"
    "yWKSWunRreRq8cSScjL7dpJGAe5yeBXs2jWMM9rGJBn5enpU994ftp1MZtbb/eZckVcE7GjOJ0jWtUbUvJ1S1EV4FV2eNR0I"
    "B5x16ivQbm7WHSxMzgHH/wBesCbSYtOmyHR5ZB2HajxNIP7GaHcVypJIqb2bLavY4/W/FU+oXLwW9obsIcbTnBIH6n2Ga5XT"
    "/iVod9d3Ng3g6S4a1QNKwi5CEBg2CMkYIP0Oa7vwLbRPbO4RVnQldwOCQfeq6/D/AEvT5Lu40u2Fo9xneI8lTn27dqqNupEr"
    "7I8p8SxaFqBGreH22QMDuiQkL75B6EV87+NbX7P4qvFQbSJd6/iM19a2/hOHSoLoTMCSDgbepPU183fFGwSLxShGP3iAH9RV"
    "UZckzKqrobDZzSWVvcQylUdcZ9enFej/ALPvh27v/iLb6jNMslrpqGZlyPlYghR+Zz+FeeBwPBMse797DKCmOvvX0X+zF4Qv"
    "tB8Fy6tqaOl1qxWQRv1SJc7OOxO4n8RRQp8079jKT0PVrm9YmimSQ5aivQMrEacnmrUCZNIqj0q1aKGbitUjNsg1bSbTVNPk"
    "s7yJXR1I57Z9K4Kz8A2ukXf9oWUZ3RRFJVUcH3/DivUhC3pVTVLEPazSCSSNxG2ShxuGOhrHEUPaK63RrRq8jsyLw9MhgjJI"
    "Jxx7Vp+JNY0yxtBMzszgcjNcbpC3TW6C3fIK96rQW7yagt3r90qKGxBC3CZ9Se59q8xVGlZHpxSerN83kt7GJzFtbA4JyQKj"
    "1S1uJdLJaIlCpwfUUk+lDUmVILuSLJzuhk2k+30rI8TaL4pWBraG5P2fGCxIDY+tFrou8ehh+EtaWzvhBdFVikYqh9MV6Oii"
    "Rf3bjaR6da8Yi0a6tZ1+2SblU8HOTiu30DUWS18hJHkjXIVu4x2NTewnZmb4+ufIkdRjuDjvXyj8UWlm8SM5V/LVVUHHH+ck"
    "19E+NL97y5kwTheAa2fDPwpku9Qt7vXNOjhWHkM7q7Nn+6ASB9TzWlOMpS9056rilqeafAX4TXutrb+I/E8TQ6Xv86C0cc3G"
    "OhPov8+K+nNihMAYA6CrJgjhjWKFFREAVVAwAB2qJlIr0YU1BaHA5XZXMIaipcEUU7DuVo489jT/ALTaWI33U8cQHOXbFcH4"
    "48fW2lQTm3uooIIR+9uGOFH0r5m8cfG2a5upE0eN7rn/AI+LgkA/Rev54rs5EtzB+Z9j3nj3wpZgiTU1Zh12Rs39KyZfil4N"
    "O6N72faQQf3DdK+CNS8d+Kr9iZNVkjU/wxKEH6DNZf8Abesu+Tqd4T/11apdgUkfoh4OvbW4tIZbaUPF/A3TI7VteL9F0zX9"
    "Hk0/ULdZoJgMjuCOQR6GvHf2e7i4X4WaPqMsryh1dZixyQRI2Cf5flXs9hdLdQqvt1zXgy0k0etCTsmZPhrSdHC/2fNZzwTJ"
    "nZJb7sMOOeO/B/OruuaToCpN/wATu9RTIvlxtk7Rxu7fWry2067/ACWIx0wcEfjWJqUFwWPyM7AYBLc1tGaSszdavdo8v8Q+"
    "F9P13WUgXUL5LNW+eNJSHn57t/CPpzXqUdjYaV4aQrEsYSLZEoH3R3Nc/b2K2cxuJgoZj0FVfFuvrPCUVsRRjH1rBu5M5XOe"
    "srQ6t4rs7EDJnuAz47IOT+gr3ppFC4Fec/CrRtlq/iK45mugVgXH+rjBwT+JH5Cu8XJ5FelhKfJC76nm1580hHbLUu3IpGGD"
    "yKlQGt2jJELQ+1FTOcUVFij84/i94zuPEuuy2tvKy6ZauVhQceYRwXP9PQVx+n2U99fQ2cK5mmcIi+5rV03Rb25ktoooHn1C"
    "+ciBMZwB1Y/jx+Br22LwXa/CvwnHqN4iXXiPU0ZN/UWUJB3Ef7TDIz6ZrWVTU52r7niviDw7Fok6RTX6XLMMny1wBz6mspvs"
    "SnIjY+xarninUDeao7jIGPXPv/WsqFDJIPQGhXauwPuT9leKK5+FthbbQYz5q7eo++2RXbXMU/hy78xRI9iT8y9TF/iK+XP2"
    "e/jEPAzvpGr2z3GktKXDxn95AT1IH8QJ7V9KxfGD4X69bDyvFNnDJ3S5R4if++lAryalKSk2ejCorKx2Wl+INIuIDNDOjsR2"
    "aq2o31iqF3dVHUnNeb6hpXhHXLh5dF8T2Cyvz/o18oOfoGrmta8D+IreVc63cz2r9cvz/Opcn2N1WRt+MfFluZzBbyZxwNtc"
    "vJdz3mHlGyNOiZ6/WnDRI7AAPkuerN1Nc/8AEDXrTQPD91IbuOO58o+Sm4bi3bA+tQouTsRKfU+pfCMFr/wjOnpazpNGkCru"
    "Q5Gcc/rWmYivNfF3wW+O17YXsVnq9ylvcMQvnsP3M/tIv8J/2h+lfXXhLxVp/iS0zARDdIAZbdmyV9we4969xwstNjz07mjI"
    "CTxTozxUjj2qI57VBVhzgHjpnpRRsLCilYdz53+A3geOTWbnWzBFIyQxrFkcxrsDHHuzsx/GuF/aVvLzXtchh0m1nd2DR3SC"
    "Mr5SxEgZJ7nJH4V6r8O9Wext5Y4JtjlRlfp6fhiqXib4a6hq95qOqaPeFL+b9/DAcbJmPJwT90nnnp9KFBq6MZHxvNYgSs87"
    "7nJJYAYA9qjUIvyxnB7V0njnS7qHVZpBC0bmQiSIrhkcfeGPrmuctYyGLP29aad9wRDBMyXLZ4zV5ZjtrLlb/SCw45qyhxTl"
    "G4RZd8/PJxjvViw8R63pRH9mave2gB4WKZgv5ZxWZ9c1XkGGYDtzSUExuTOk1H4g+M76IxXOv3TKRg42qT+IANcxcTTTymSe"
    "V5XPVnYk/madxjnvUT9auMUtkRJt7sbXrnwY+Jt5omo2unXl9JGiEC0u2PMJ/ut6qenPT6V5RbOqSZeMSIRhlPcfXsamu7V7"
    "V0kUlon5jcjGfUEdiO9VewJ2P0u+H3iq18U6eVcLDqMAHnwg9f8AaX2P6V0YiIbGK+K/gN45vVS3SO4K6lYDdAx582MfeQ+u"
    "B+n0r7J8La5aeItDg1S0+USDDoTzG46qaiS6o2TuaSxjHvRQWoqQsfIHg/xVFq1umsQRLFcRMFvbZT9xj3H+y3UenIr1rR/E"
    "6W2nx3sBMyWp3jZywQ9RjvXzF8NYvKuNQvFlk8y3lEAGfldCxBDDvXqPh+6ns9fFpE/7mRijK3OQatvW5U4pq5ufEDSvCnxI"
    "ifxzoIWyv08yOdJRhbpkGAxwfl6dcHtXy34xmhe+NzbwGKKdFdcjGeBX2J4C0uwtdY1G3jtkMAhkmETfd3FTnj8K+VPi8/7j"
    "SogqhViJGB0yFJ/nTna6Zz7HnrHLZq7EpKBgOCKpAc1o25xD+FKQRGgYPPFVn+8T1qxIxwDUMnTOOaSGyMn5cVGetOznrTDV"
    "ksdHy1dnplta32kWwmKiOd/ImY9IZx/q39gy8H6E1xifeFd94SsYJNI1WJ9xSXTjMwz0dGypH+e9TIcTP0Fr/wAL+JIplykk"
    "MmRkdcHGCPzBFfXfwX8Sx2XiCK0VyNO1mNXiBOdkmCR+PVT7gV82axbRXWgSX84LTiK2lDZ/ibKN+YUE+/Nd74Ou7iDwhp11"
    "HIRNayuYm9NrBh+pNOOuhqtD7ILUVAjEopPcZoqENn//2Q=="
)


def face_photo() -> np.ndarray:
    """The embedded photograph as a BGR uint8 array (decoded on each call; callers cache it)."""
    raw = np.frombuffer(base64.b64decode(FACE_JPEG_B64), dtype=np.uint8)
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
    if image is None:  # pragma: no cover - the constant is fixed
        raise RuntimeError("embedded face photograph does not decode")
    return image
